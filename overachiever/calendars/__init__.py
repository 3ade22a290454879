"""Calendar feeds: secret URLs that serve a user's goals to calendar apps as iCalendar."""
