"""The demo leads in Brazilian Portuguese: what Altamira's leads read, download and are called.

Each table has the same length and order as its English twin in leads.demo, because the demo's
seeded random generator picks by position: the same leads arrive at the same moments, score the
same and reach the same reps in both languages. Job titles keep the words the fit rules look
for (diretor, gerente, estudante in agreements.demo_pt) where the English ones had director,
manager and student.
"""

SOURCES = {  # key in leads.demo.SOURCES: (the lead's source, what created the lead)
    "website": ("site", "Cadastrou-se pelo formulário do site"),
    "webinar": ("webinar", "Inscreveu-se em um webinar"),
    "paid search": ("busca paga", "Converteu em uma landing page de busca paga"),
    "referral": ("indicação", "Indicado por um cliente"),
    "event": ("evento", "Crachá lido em um evento"),
}

INDUSTRY_NAMES = {
    "software": "software",
    "saas": "saas",
    "fintech": "fintech",
    "retail": "varejo",
    "education": "educação",
    "healthcare": "saúde",
    "manufacturing": "indústria",
    "logistics": "logística",
    "agency": "agência",
}

COMPANY_ENDS = {  # industry: how company names end, word for word with leads.demo.INDUSTRIES
    "software": "Software Sistemas Tecnologia",
    "saas": "Cloud Digital Plataforma App",
    "fintech": "Pay Banco Finanças Capital",
    "retail": "Lojas Magazine Atacado Varejo",
    "education": "Academia Instituto Educação Ensino",
    "healthcare": "Medicina Diagnósticos Med Laboratório",
    "manufacturing": "Industrial Indústria Metalúrgica Grupo",
    "logistics": "Logística Expresso Transportes Cargas",
    "agency": "Agência Estúdio Marketing Criativa",
}

# Brazilian companies get a city, and their phones its area code.
CITIES = {
    "BR": [
        ("São Paulo", "+55 11 9"),
        ("Campinas", "+55 19 9"),
        ("Rio de Janeiro", "+55 21 9"),
        ("Belo Horizonte", "+55 31 9"),
        ("Curitiba", "+55 41 9"),
        ("Joinville", "+55 47 9"),
        ("Porto Alegre", "+55 51 9"),
        ("Caxias do Sul", "+55 54 9"),
        ("Recife", "+55 81 9"),
        ("São José dos Campos", "+55 12 9"),
    ],
}
CITY_ATTRIBUTE = "cidade"

TITLES = {
    "senior": [
        "Diretor de Marketing",
        "Diretor de Marketing e Growth",
        "Diretor Comercial",
        "Diretor de Geração de Demanda",
        "VP de Vendas",
        "VP de Marketing",
        "Head de Growth",
        "CMO",
        "CTO",
        "CEO",
    ],
    "manager": [
        "Gerente de Marketing",
        "Gerente Comercial",
        "Gerente de Geração de Demanda",
        "Gerente de Operações de Marketing",
        "Gerente de Marketing de Produto",
        "Gerente de Operações de Vendas",
    ],
    "junior": [
        "Analista de Marketing",
        "Analista",
        "Coordenador de Marketing",
        "SDR (pré-vendas)",
        "Especialista em Conteúdo",
        "Consultor",
        "Estudante",
        "Estudante de MBA",
    ],
}
# A title takes the feminine form of its first word for the women among the leads' first
# names (leads.demo.COUNTRIES); "Diretora" still contains what the fit rule looks for.
FEMININE_WORDS = {"Diretor": "Diretora", "Coordenador": "Coordenadora", "Consultor": "Consultora"}
FEMININE_NAMES = frozenset(
    "Ana Beatriz Camila Daniela Fernanda Juliana Larissa Mariana Paula Vanessa Letícia "
    "Emily Sarah Jessica Ashley Megan Lauren Inês Margarida Joana Sofia Catarina Valentina "
    "Sofía Lucía Ximena Anna Lea Laura Hannah Katharina Agustina Florencia Milagros Carolina "
    "Elena Marta Irene Nuria Charlotte Amelia Isla Freya".split()
)

PAGES = [
    "/",
    "/produto",
    "/produto/pontuacao-de-leads",
    "/produto/repasse-de-leads",
    "/integracoes",
    "/blog/o-que-e-um-mql",
    "/blog/sla-entre-vendas-e-marketing",
    "/blog/velocidade-no-primeiro-contato",
    "/casos-de-sucesso",
    "/casos-de-sucesso/metalurgica-ferro-forte",
]
PRICING_PAGE = "/precos"
CONTENT = [
    "E-book: o guia de receita B2B",
    "Modelo: um SLA entre vendas e marketing",
    "Relatório: panorama da geração de demanda B2B 2026",
    "Checklist: pontuação de leads em 10 passos",
]
WEBINARS = [
    "Vendas e marketing alinhados em torno de um só funil",
    "Pontuação de leads em que vendas confia",
    "Do MQL à receita: uma análise ao vivo",
]
CAMPAIGNS = ["newsletter-mensal", "convite-webinar", "follow-up-ebook", "novidades-do-produto"]
NEWSLETTER = "newsletter-mensal"
UTM_CAMPAIGNS = ["modelo-de-sla", "pontuacao-de-leads", "marca"]
EVENTS_ATTENDED = ["RD Summit", "Feimec", "SaaStr Latam"]
CONVERSION_FORMS = {
    "demo_request": "pedido-de-demonstracao",
    "contact_sales": "fale-com-vendas",
}

NOTES = {
    "connected": "Boa conversa: a necessidade é real e querem ver uma proposta.",
    "meeting_booked": "Reunião de descoberta agendada com o comitê de compra.",
    "bad_timing": "Há interesse, mas o orçamento só abre no ano que vem.",
    "not_interested": "Satisfeitos com o processo atual; não é um comprador para nós.",
    "left_voicemail": "Deixei recado na caixa postal; vou tentar de novo.",
    "wrong_number": "O número é de outra pessoa e o e-mail voltou.",
}

CRM_REASONS = {  # lead stage: why the CRM moved the lead there
    "opportunity": "Oportunidade aberta no CRM",
    "customer": "Negócio ganho no CRM",
}

MONEY_SCALE = 5  # deal values in R$, five times the English demo's dollars
