"""The core app's pages, by area: accounts (home, sign-up, profile, joining by
invitation), overview (the hourglass, stage plans, tactics), team (the
accountability chart, invitations, members) and business (create, settings,
delete, the whole-business archive)."""
