# Models of this app arrive with its own issue; the app is installed now so that
# migrations, URLs and settings have their place from the start.
