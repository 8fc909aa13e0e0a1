# RST after a SYN (or ACK) that conntrack let through, sent by either side:
# which ones skip the window check on Linux 6.18 (kernel_ct_rst.expected).
from scapy.all import Ether, IP, TCP, wrpcap
C = "192.168.1.10"; S = "198.51.100.20"
pk = []; t = [1700000000.0]
def add(p):
    t[0] += 0.001; e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")/p; e.time = t[0]; pk.append(e)
# server SYN (original), client SYN (reply: SYN_SENT2), then a RST with a wild seq
for i, (fromcli, fl, ack) in enumerate([(1, "R", 0), (0, "R", 0), (0, "R", 12345), (0, "RA", 0)]):
    cp = 31000 + i
    add(IP(src=S, dst=C)/TCP(sport=80, dport=cp, flags="S", seq=3597314105, window=65535, options=[('SAckOK', b'')]))
    add(IP(src=C, dst=S)/TCP(sport=cp, dport=80, flags="S", seq=2356735239, ack=3597314107, window=512, options=[('WScale', 14)]))
    if fromcli: add(IP(src=C, dst=S)/TCP(sport=cp, dport=80, flags=fl, seq=3851793290, ack=ack, window=1024))
    else: add(IP(src=S, dst=C)/TCP(sport=80, dport=cp, flags=fl, seq=3851793290, ack=ack, window=1024))
# client SYN, server bare ACK in SYN_SENT (ignored), then RST+ACK from either side
for i, (fromcli, ack) in enumerate([(1, 7777), (0, 7777), (1, 4242), (0, 4242)]):
    cp = 32000 + i
    add(IP(src=C, dst=S)/TCP(sport=cp, dport=80, flags="S", seq=1000, window=65535))
    add(IP(src=S, dst=C)/TCP(sport=80, dport=cp, flags="A", seq=7777, ack=555555, window=65535))
    if fromcli: add(IP(src=C, dst=S)/TCP(sport=cp, dport=80, flags="RA", seq=900000000, ack=ack, window=1024))
    else: add(IP(src=S, dst=C)/TCP(sport=80, dport=cp, flags="RA", seq=900000000, ack=ack, window=1024))
wrpcap("kernel_ct_rst.pcap", pk)
