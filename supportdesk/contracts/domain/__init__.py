"""Pure entitlement rules for contracts, plans, caps, versions and user counting.

No Django imports and no clock reads here: ``now``/``today`` are always passed in.
"""
