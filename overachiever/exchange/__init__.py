"""Export and import documents: the JSON export, Markdown task lists, OPML, CSV and iCalendar."""
