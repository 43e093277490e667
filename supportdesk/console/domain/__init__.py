"""Pure rules of the console's pages: no Django, times passed in."""
