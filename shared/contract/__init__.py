"""The contract: envelope, message bases, events, commands and topology."""
