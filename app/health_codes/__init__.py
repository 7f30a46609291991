"""穗康码 health codes: real-name application, declarations, colour rules, signed dynamic tokens, verification."""
