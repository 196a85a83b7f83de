# A flapping link: an otherwise decent path (LTE-like) that goes dark for
# 500 ms every 4 s (at 4 s, 8 s, 12 s, ... after start), e.g. a loose
# connector or a radio bouncing between cells.
rate    = 10mbit
delay   = 25ms
jitter  = 5ms
loss    = 0.002
queue   = 128kb
every 4s blackout 500ms
