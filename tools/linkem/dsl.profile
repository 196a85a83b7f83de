# ADSL/VDSL: ~10 ms one-way to the first hops, little jitter, almost no
# loss, 8 Mbit/s (the slower, upstream-like direction) with a 64 KB
# drop-tail modem buffer.
rate    = 8mbit
delay   = 10ms
jitter  = 1ms
reorder = no
loss    = 0.0005
queue   = 64kb
