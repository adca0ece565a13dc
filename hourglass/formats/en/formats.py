"""English dates as the app has always written them: `30 Nov 2026`, `30 Nov`,
24-hour times (`30 Nov 2026, 14:05`). Django's own English (`Nov. 30, 2026`,
`2:05 p.m.`) would mix a second style into pages; the other languages keep
Django's formats (`30 novembre 2026`, `30 listopada 2026`, `2026년 11월 30일`).
Templates name formats (`DATE_FORMAT`, `MONTH_DAY_FORMAT`, `DATETIME_FORMAT`,
`TIME_FORMAT`), never letters, so each screen has one style per language."""

DATE_FORMAT = "j M Y"
MONTH_DAY_FORMAT = "j M"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
