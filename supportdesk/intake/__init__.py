"""Email, phone and voicemail intake (spec rules T-2 … T-5)."""
