"""Phone line: the menu model and everything made from it (simulator, Asterisk dialplan, VoiceXML, audio)."""
