"""Pure intake logic: parsing, threading, loop/bounce detection, outbound headers, identity.

No Django imports here; everything is a pure function over bytes, strings and frozen dataclasses.
"""
