"""History: every change of goals recorded, undone, replayed as of an instant, fed to clients."""
