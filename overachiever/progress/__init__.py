"""Progress over time: burn-up series and the forecast of when goals will be done."""
