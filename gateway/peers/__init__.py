"""Real SIP peers that crcgw starts for its demo, its tests and its benches.

Every peer is a direct child process (``PR_SET_PDEATHSIG``: it dies with its parent) on free
loopback ports, stopped by its PID.
"""
