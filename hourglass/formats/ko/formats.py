"""Korean dates as Django writes them, with the time the same way in a date
and alone: `2026년 11월 30일 오후 2:05` (Django's own puts 오후 after the time
in a date, `2:05 오후`, and before it alone)."""

DATETIME_FORMAT = "Y년 n월 j일 A g:i"
SHORT_DATETIME_FORMAT = "Y-n-j A g:i"
