"""The demo's SLA in Brazilian Portuguese: Altamira, an industrial-software company in São Paulo.

The same agreements as the English demo (agreements.demo), row for row and number for number,
written the way the source article (shared/reference/sla-article-pt.txt) writes them. Only the
money changes currency: the goals and the funnel are in reais, five times the dollar figures,
so the reverse funnel still asks for 50 deals, 1.000 MQLs and 5.000 leads.
"""

from . import models as m

AGREEMENT_NAME = "SLA de Crescimento Altamira"
ENTERPRISE_NAME = "SLA Grandes Contas Altamira"
ENTERPRISE_NOTE = (
    "Grandes contas (1.000 funcionários ou mais): um responsável nomeado responde em até uma hora."
)
FIRST_VERSION_NOTE = "Primeira versão do SLA, saída do workshop de kick-off."
AMENDMENT_NOTE = "Primeiro contato em até 3 horas úteis, após a revisão do 3º trimestre"
MARKETING_TEAM = "Marketing Altamira"
SALES_TEAM = "Vendas Altamira"
ENTERPRISE_SALES_TEAM = "Vendas Grandes Contas Altamira"
EMAIL_DOMAIN = "altamira.example"
CASE_STUDIES_PATH = "/casos-de-sucesso"

USER_DESCRIPTIONS = {
    "marina": "Gerente de marketing",
    "sergio": "Gerente de vendas",
    "rita": "Vendedora",
    "rafael": "Vendedor",
    "renata": "Vendedora",
    "vera": "Leitora (diretoria)",
}

MONEY_SCALE = 5  # R$ per US$ of the English demo, so the arithmetic stays the same

GOALS = [
    {
        "name": "R$ 5 milhões em nova receita no ano",
        "metric": m.Metric.NEW_REVENUE,
        "target": 5_000_000,
        "unit": "R$",
        "owner": m.Team.SHARED,
        "rationale": "O plano de crescimento aprovado pela diretoria: 50 novos clientes com "
        "ticket médio de R$ 100.000. As duas equipes são donas desta meta; todos os outros "
        "números deste SLA saem dela pelo funil reverso.",
    },
    {
        "name": "1.000 MQLs entregues a vendas",
        "metric": m.Metric.MQLS,
        "target": 1_000,
        "unit": "MQLs",
        "owner": m.Team.MARKETING,
        "rationale": "O que o funil reverso exige com uma taxa de 40% de MQL para SQL: cerca "
        "de 84 por mês, todos atendendo às regras de qualificação abaixo.",
    },
    {
        "name": "Primeiro contato rápido com todo MQL",
        "metric": m.Metric.SPEED_TO_LEAD,
        "target": 4,
        "unit": "horas úteis",
        "owner": m.Team.SALES,
        "rationale": "Leads contatados poucas horas depois de levantar a mão convertem muito "
        "mais do que leads procurados dias depois.",
    },
]

TERMS = [
    (
        "Contato",
        "Qualquer pessoa em nossa base com pelo menos um nome e uma forma de contato: um "
        "assinante da newsletter, um participante de evento, um cartão de visita. Ainda não é "
        "um lead.",
    ),
    (
        "Lead",
        "Um contato que nos deu seus dados em troca de algo (um download, um webinar, um "
        "formulário) e trabalha em uma empresa que poderia comprar de nós.",
    ),
    (
        "MQL",
        "Lead Qualificado de Marketing: um lead cujas pontuações de perfil (quem ele é) e de "
        "interesse (o que ele fez) atingem os limites deste SLA, ou que pediu uma demonstração "
        "ou para falar com vendas. O marketing repassa todo MQL para vendas.",
    ),
    (
        "SQL",
        "Lead Qualificado de Vendas: um MQL que um vendedor aceitou depois de uma primeira "
        "conversa que confirmou orçamento, autoridade, necessidade e momento (veja os "
        "critérios de SQL).",
    ),
    (
        "Oportunidade",
        "Um SQL com um negócio concreto no funil de vendas: uma necessidade delimitada, um "
        "processo de decisão, um valor esperado e uma data prevista de fechamento.",
    ),
    ("Cliente", "Uma empresa que assinou contrato (a oportunidade foi ganha)."),
]

LIFECYCLE = {  # slug: (label, description)
    "lead": ("Lead", "Deixou seus dados; pontuado por perfil e interesse."),
    "mql": (
        "Lead Qualificado de Marketing (MQL)",
        "Atingiu os limites de MQL ou converteu em uma oferta de fundo de funil; repassado "
        "para vendas.",
    ),
    "sql": (
        "Lead Qualificado de Vendas (SQL)",
        "Aceito por vendas depois de uma primeira conversa que confirmou os critérios de SQL.",
    ),
    "opportunity": ("Oportunidade", "Um negócio no funil de vendas."),
    "customer": ("Cliente", "Negócio ganho."),
}

PIPELINE_STAGES = [
    ("discovery", "Descoberta", "Entender o problema, as pessoas envolvidas e o momento."),
    ("demo", "Demonstração", "Mostrar o produto diante das necessidades levantadas na descoberta."),
    ("proposal", "Proposta", "Uma proposta por escrito, com escopo e preço."),
    ("negotiation", "Negociação", "Condições, jurídico e compras."),
    ("closed_won", "Ganho", "Contrato assinado; a empresa se torna cliente."),
    ("closed_lost", "Perdido", "Perdido; o motivo fica registrado para a revisão mensal."),
]

# The same rules as the English demo, matched against the Portuguese job titles of the demo
# leads (leads.demo_pt.TITLES), so every lead scores what it scores in English.
FIT_RULES = [
    ("title", "contains", "diretor", 15),
    ("title", "contains", "gerente", 10),
    ("company_size", "gt", "200", 20),
    ("company_size", "lt", "10", -10),
    ("industry", "in", "software,saas,fintech", 10),
    ("country", "in", "BR,US,PT", 5),
    ("title", "contains", "estudante", -20),
]

SQL_CRITERIA = (
    "Um vendedor aceita um MQL como SQL depois de uma conversa que confirma:\n"
    "- Orçamento: a empresa pode pagar um plano do nosso porte neste ano.\n"
    "- Autoridade: o contato decide, ou traz quem decide para a conversa.\n"
    "- Necessidade: um problema que resolvemos, nas palavras do próprio lead.\n"
    "- Momento: pretende comprar nos próximos dois trimestres."
)

NURTURE_TRACKS = [
    {
        "name": "Educação (ainda não está pronto para comprar)",
        "entry_condition": m.NurtureTrack.Entry.BELOW_MQL,
        "description": "Para leads novos abaixo do limite de MQL e leads devolvidos por ainda "
        "não estarem prontos: primeiro ensinar o problema, depois mostrar como outras "
        "empresas o resolveram.",
        "steps": [
            (m.NurtureStep.JourneyStage.AWARENESS, "E-book: o guia de receita B2B", 0),
            (
                m.NurtureStep.JourneyStage.AWARENESS,
                "Resumo do blog: cinco sinais de que o seu funil está vazando",
                5,
            ),
            (
                m.NurtureStep.JourneyStage.CONSIDERATION,
                "Convite para webinar: alinhando vendas e marketing",
                7,
            ),
            (
                m.NurtureStep.JourneyStage.DECISION,
                "Estudo de caso: como uma indústria como a sua dobrou o funil",
                7,
            ),
        ],
    },
    {
        "name": "Reengajamento (devolvidos por vendas)",
        "entry_condition": m.NurtureTrack.Entry.ON_RETURN,
        "description": "Para leads que vendas não conseguiu contatar: um toque mais leve, que "
        "dá um motivo para responder e um caminho direto de volta a um vendedor.",
        "steps": [
            (m.NurtureStep.JourneyStage.CONSIDERATION, "Estudo de caso: resultados em 90 dias", 3),
            (
                m.NurtureStep.JourneyStage.CONSIDERATION,
                "Convite para webinar: tour do produto ao vivo",
                7,
            ),
            (
                m.NurtureStep.JourneyStage.DECISION,
                "Oferta de demonstração: 20 minutos com um especialista",
                7,
            ),
        ],
    },
]

RETURN_REASONS = {  # code: label
    "no_response": "Sem resposta depois da cadência completa",
    "bad_fit": "Fora do perfil (porte, setor ou cargo)",
    "not_ready": "Ainda não está pronto para comprar / momento errado",
    "wrong_contact": "Contato errado ou dados inválidos",
}

DISPOSITIONS = {  # code: label
    "connected": "Conectado: houve conversa",
    "meeting_booked": "Reunião agendada",
    "left_voicemail": "Recado deixado na caixa postal",
    "no_answer": "Não atendeu",
    "wrong_number": "Número errado",
    "not_interested": "Sem interesse",
    "bad_timing": "Interessado, mas fora do momento",
}
