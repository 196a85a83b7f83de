# LTE at the cell edge: ~60 ms one-way, heavy jitter, ~2 % loss of which
# part comes in bursts (Gilbert-Elliott: enter a bad spell with p = 0.5 %,
# leave it with r = 25 %, in a bad spell 70 % are lost), 3 Mbit/s, and the
# deep buffer that causes bufferbloat on cellular uplinks.
rate    = 3mbit
delay   = 60ms
jitter  = 25ms
reorder = no
loss    = 0.01
ge      = 0.005,0.25,0.3,1
queue   = 512kb
# a short handover gap and a latency spike
at 20s blackout 300ms
at 40s delay 300ms for 2s
