from scapy.all import Ether, IP, IPv6, TCP, UDP, ICMP, GRE, Raw, ICMPv6ND_NS, wrpcap
from scapy.layers.sctp import SCTP, SCTPChunkInit, SCTPChunkInitAck, SCTPChunkData
import json
C="192.168.1.10"; S="198.51.100.20"; C6="2001:db8:1::10"; S6="2001:db8:ffff::20"
ev=[]
def at(t, p, note): ev.append((t, p, note))
def udp(t, cport, c2s, note, dport=53):
    p = IP(src=C,dst=S)/UDP(sport=cport,dport=dport)/Raw(b"u"*10) if c2s else IP(src=S,dst=C)/UDP(sport=dport,dport=cport)/Raw(b"u"*10)
    at(t,p,note)
udp(0.0,6001,1,"A q"); udp(0.5,6001,0,"A a"); udp(2.5,6001,1,"A q stream"); udp(5.0,6001,1,"A q est"); udp(11.6,6001,1,"A q after stream expiry -> new")
udp(0.1,6002,1,"B q"); udp(3.6,6002,0,"B late answer -> new")
udp(0.2,6003,1,"C q"); udp(0.7,6003,0,"C a"); udp(1.5,6003,1,"C q before 2s"); udp(5.0,6003,1,"C q -> new (unreplied timeout)")
at(0.3, IP(src=C,dst=S)/TCP(sport=6004,dport=80,flags="S",seq=1000), "D syn"); at(3.8, IP(src=S,dst=C)/TCP(sport=80,dport=6004,flags="SA",seq=5000,ack=1001), "D late synack -> invalid")
at(0.4, IP(src=C,dst=S)/TCP(sport=6005,dport=80,flags="S",seq=1000), "E syn"); at(2.9, IP(src=S,dst=C)/TCP(sport=80,dport=6005,flags="SA",seq=5000,ack=1001), "E synack in time")
at(0.5, IP(src=C,dst=S)/ICMP(type=8,id=1), "F echo"); at(3.0, IP(src=S,dst=C)/ICMP(type=0,id=1), "F reply in time")
at(0.6, IP(src=C,dst=S)/ICMP(type=8,id=2), "G echo"); at(4.1, IP(src=S,dst=C)/ICMP(type=0,id=2), "G late reply -> invalid")
at(0.7, IP(src=C,dst=S,proto=50)/Raw(b"e"*16), "H esp"); at(4.2, IP(src=S,dst=C,proto=50)/Raw(b"e"*16), "H late esp -> new")
at(0.8, IP(src=C,dst=S,proto=50)/Raw(b"f"*16), "I esp"); at(3.3, IP(src=S,dst=C,proto=50)/Raw(b"f"*16), "I esp reply in time")
at(0.9, IPv6(src=C6,dst=S6)/GRE()/Raw(b"g"*8), "J gre6"); at(1.0, IPv6(src=S6,dst=C6)/GRE()/Raw(b"g"*8), "J gre6 reply")
at(1.1, IPv6(src=C6,dst="ff02::1:ff00:20")/ICMPv6ND_NS(tgt="2001:db8:1::20"), "K NS")
at(1.2, IP(src=C,dst=S)/SCTP(sport=6006,dport=9)/SCTPChunkInit(init_tag=1), "L sctp init"); at(1.3, IP(src=S,dst=C)/SCTP(sport=9,dport=6006,tag=1)/SCTPChunkInitAck(init_tag=2), "L sctp init-ack")
at(1.4, IP(src=C,dst=S)/SCTP(sport=6007,dport=9,tag=5)/SCTPChunkData(data=b"d"*8), "M sctp data w/o init")
at(1.5, IP(src=C,dst=S)/ICMP(type=13,id=3), "N timestamp"); at(1.6, IP(src=S,dst=C)/ICMP(type=14,id=3), "N timestamp reply")
at(1.7, IP(src=C,dst=S)/UDP(sport=6008,dport=53), "O udp zero payload")
at(1.8, IP(src=C,dst=S,proto=136)/UDP(sport=6009,dport=53)/Raw(b"l"*8), "P udplite")
ev.sort(key=lambda e:e[0])
pk=[]; notes=[]
for t,p,n in ev:
    p = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")/p
    p.time = 1700000000.0 + t; pk.append(p); notes.append(n)
wrpcap("kernel_ct_timing.pcap", pk); json.dump(notes, open("kernel_ct_timing.notes.json","w")); print(len(pk))
