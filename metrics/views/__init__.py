"""The pages of the metrics app, one module per page area:

- `metrics`: the metric list, a metric's form and its page with the history;
- `entries`: the This week form and the field that saves one number;
- `csv`: the numbers' CSV import and export;
- `review`: the weekly review dashboard and its recompute;
- `meeting`: meeting mode — issues, to-dos, notes — and its printable page.

Every view has one shape: an access helper (`metrics.access`), a form, a
service, and an answer through `hourglass.http`.
"""
