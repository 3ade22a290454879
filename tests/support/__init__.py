"""Helpers shared by the test modules (and the CI scripts); fixtures stay in conftest.py files.

accounts      signing up through the API: PASSWORD, basic(), Account, sign_up()
apps          building and disposing of apps with the suite's settings
database      the suite's database (SQLite, or PostgreSQL from OVERACHIEVER_TEST_DATABASE_URL)
problems      checks of RFC 9457 problems and of the user directory's failures
goals         goal API helpers: bodies, Link headers, timestamps, snapshots of goal rows
deep_json     parsing JSON nested thousands of levels deep
services      building goals through the goal service directly
cli           reading the command line's output
liveserver    real `overachiever serve` processes and their databases
live_client   persistent HTTP clients for live servers, and tree checks
adversarial   one app per module, accounts and whole-database snapshots
browser       a watched Chromium page and the UI's sign-in steps
"""
