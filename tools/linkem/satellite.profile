# Geostationary satellite: ~600 ms RTT, i.e. 300 ms one-way, a few ms of
# jitter, ~0.5 % loss with rain-fade bursts, 10 Mbit/s and a large buffer.
rate    = 10mbit
delay   = 300ms
jitter  = 10ms
reorder = no
loss    = 0.005
ge      = 0.001,0.1,0.5,1
queue   = 1mb
