"""The inventory's MongoDB projection and its queries."""
