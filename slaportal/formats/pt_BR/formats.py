"""Brazilian formats where they differ from Django's pt_BR: times read "14h30", as a Brazilian
team writes them (Django's own says "14:30"). Anything not set here comes from Django."""

TIME_FORMAT = r"H\hi"
DATETIME_FORMAT = r"j \d\e F \d\e Y \à\s H\hi"
SHORT_DATETIME_FORMAT = r"d/m/Y H\hi"
