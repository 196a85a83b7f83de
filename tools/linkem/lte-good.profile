# LTE with good signal: ~30 ms one-way (60 ms RTT), a few ms of jitter,
# 0.1 % random loss, ~20 Mbit/s each way with a modest base-station buffer.
# Values are general knowledge of typical LTE (RTT 40-80 ms, loss 0.1-2 %).
rate    = 20mbit
delay   = 30ms
jitter  = 5ms
reorder = no
loss    = 0.001
queue   = 256kb
