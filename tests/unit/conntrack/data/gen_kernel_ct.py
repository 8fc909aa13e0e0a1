# Scenario capture for conntrack differential testing (ad hoc).
from scapy.all import Ether, IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6ND_NS, GRE, Raw, wrpcap
import json
C = "192.168.1.10"; S = "198.51.100.20"
pkts = []; notes = []
t = [1700000000.0]
def add(p, note=""):
    t[0] += 0.001
    p = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")/p
    p.time = t[0]
    pkts.append(p); notes.append(note)
def tcp(cp, c2s, flags, seq, ack, data=b"", win=65535, opts=None, sp=80):
    if c2s: ip = IP(src=C, dst=S, id=len(pkts)+1); th = TCP(sport=cp, dport=sp, flags=flags, seq=seq, ack=ack, window=win, options=opts or [])
    else:   ip = IP(src=S, dst=C, id=len(pkts)+1); th = TCP(sport=sp, dport=cp, flags=flags, seq=seq, ack=ack, window=win, options=opts or [])
    p = ip/th
    if data: p = p/Raw(data)
    return p
def hs(cp, note):
    add(tcp(cp,1,"S",1000,0), note+" syn"); add(tcp(cp,0,"SA",5000,1001), note+" synack"); add(tcp(cp,1,"A",1001,5001), note+" ack")
# A: normal life + reopen in TIME_WAIT
cp=10001; hs(cp,"A")
add(tcp(cp,1,"PA",1001,5001,b"x"*100),"A data"); add(tcp(cp,0,"A",5001,1101),"A ack")
add(tcp(cp,1,"FA",1101,5001),"A fin"); add(tcp(cp,0,"FA",5001,1102),"A fin2"); add(tcp(cp,1,"A",1102,5002),"A lastack")
add(tcp(cp,1,"S",90000,0),"A reopen syn"); add(tcp(cp,0,"SA",7000,90001),"A reopen synack")
# B: retransmissions
cp=10002; add(tcp(cp,1,"S",1000,0),"B syn"); add(tcp(cp,1,"S",1000,0),"B syn rtx"); add(tcp(cp,0,"SA",5000,1001),"B synack"); add(tcp(cp,0,"SA",5000,1001),"B synack rtx in SR")
add(tcp(cp,1,"A",1001,5001),"B ack"); add(tcp(cp,0,"SA",5000,1001),"B synack rtx in ES")
# C: window
cp=10003; hs(cp,"C")
add(tcp(cp,1,"A",1001+200000,5001,b"y"*100),"C far beyond (invalid)")
add(tcp(cp,1,"A",1001+70000,5001,b"y"*100),"C slightly beyond (ignored)")
add(tcp(cp,1,"A",1001,5001,b"z"*1400),"C data"); add(tcp(cp,0,"A",5001,2401),"C ack")
add(tcp(cp,1,"A",1001,5001,b"z"*1400),"C retransmission of acked data")
add(tcp(cp,1,"A",2401,5011),"C ack unseen data (invalid)")
# D: loose pickup
cp=10004; add(tcp(cp,1,"A",3000,8000,b"m"*10),"D midstream"); add(tcp(cp,0,"A",8000,3010),"D reply"); add(tcp(cp,1,"A",3010,8000),"D again")
# E: RST answering SYN
cp=10005; add(tcp(cp,1,"S",1000,0),"E syn"); add(tcp(cp,0,"RA",0,1001,win=0),"E rst"); add(tcp(cp,1,"S",1000,0),"E syn again")
# F: simultaneous open
cp=10006; add(tcp(cp,1,"S",1000,0),"F syn"); add(tcp(cp,0,"S",5000,0),"F syn reply"); add(tcp(cp,1,"SA",1000,5001),"F synack orig"); add(tcp(cp,0,"A",5001,1001),"F ack reply")
# G: RSTs
cp=10007; hs(cp,"G"); add(tcp(cp,1,"R",900,0),"G rst before maxack (invalid)"); add(tcp(cp,1,"R",1500,0),"G rst inexact"); add(tcp(cp,1,"A",1001,5001),"G ack after"); add(tcp(cp,1,"R",1001,0),"G rst exact"); add(tcp(cp,1,"A",1001,5001),"G ack in close")
add(tcp(cp,1,"S",20000,0),"G syn after own rst (reopen)")
# H: SYN on established, resync
cp=10008; hs(cp,"H"); add(tcp(cp,1,"S",9000,0),"H syn on ES (ignored)"); add(tcp(cp,0,"SA",7000,9001),"H synack resync"); add(tcp(cp,1,"A",9001,7001),"H ack")
# I: flags
cp=10009; add(tcp(cp,1,"SF",1000,0),"I syn fin new (invalid)"); hs(cp,"I"); add(tcp(cp,1,"",1001,5001),"I no flags (invalid)"); add(tcp(cp,1,"FPU",1001,5001),"I xmas-ish (invalid)")
# J: window scaling
cp=10010
add(tcp(cp,1,"S",1000,0,opts=[("WScale",7)]),"J syn ws"); add(tcp(cp,0,"SA",5000,1001,opts=[("WScale",7)]),"J synack ws")
add(tcp(cp,1,"A",1001,5001,win=2048),"J ack"); add(tcp(cp,0,"A",5001,1001,win=2048),"J sack")
add(tcp(cp,1,"A",201001,5001,b"w"*1000),"J far data ok with scaling")
cp=10011
add(tcp(cp,1,"S",1000,0,opts=[("WScale",7)]),"K syn ws"); add(tcp(cp,0,"SA",5000,1001,opts=[("SAckOK",b"")]),"K synack nows")
add(tcp(cp,1,"A",1001,5001,win=2048),"K ack"); add(tcp(cp,0,"A",5001,1001,win=2048),"K sack")
add(tcp(cp,1,"A",201001,5001,b"w"*1000),"K far data invalid without scaling")
# L: SACK
cp=10012
add(tcp(cp,1,"S",1000,0,opts=[("SAckOK",b"")]),"L syn"); add(tcp(cp,0,"SA",5000,1001,opts=[("SAckOK",b"")]),"L synack"); add(tcp(cp,1,"A",1001,5001),"L ack")
add(tcp(cp,1,"A",1001,5001,b"s"*1000),"L data"); add(tcp(cp,0,"A",5001,1001,opts=[("SAck",(1001,2001))]),"L sack ok")
add(tcp(cp,0,"A",5001,1001,opts=[("SAck",(2001,3001))]),"L sack beyond (invalid)")
# M: challenge ack in LAST_ACK
cp=10013; hs(cp,"M"); add(tcp(cp,1,"FA",1001,5001),"M fin"); add(tcp(cp,0,"A",5001,1002),"M ack"); add(tcp(cp,0,"FA",5001,1002),"M fin2")
add(tcp(cp,1,"S",80000,0),"M spurious syn in LA (ignored)"); add(tcp(cp,0,"A",5002,1002),"M challenge ack (ignored)"); add(tcp(cp,1,"A",1002,5002),"M last ack")
# N: ack from server in SYN_SENT (ignored), ack from client in SS (invalid)
cp=10014; add(tcp(cp,1,"S",1000,0),"N syn"); add(tcp(cp,0,"A",5000,1001),"N server ack in SS (ignored)"); add(tcp(cp,1,"A",1001,5001),"N client ack in SS (invalid)")
# O: fin/rst without connection
cp=10015; add(tcp(cp,1,"FA",1000,1),"O fin new (invalid)"); add(tcp(cp,1,"R",1000,0),"O rst new (invalid)"); add(tcp(cp,0,"SA",5000,1001),"O synack new (invalid)")
# P: RST train after data
cp=10016; hs(cp,"P"); add(tcp(cp,0,"PA",5001,1001,b"d"*100),"P server data"); add(tcp(cp,0,"R",5101,0),"P rst train"); add(tcp(cp,1,"S",30000,0),"P syn in CLOSE by peer rst (ignored)")
# UDP / ICMP
add(IP(src=C,dst=S)/UDP(sport=5353,dport=53)/Raw(b"q"*10),"U query"); add(IP(src=S,dst=C)/UDP(sport=53,dport=5353)/Raw(b"a"*10),"U answer"); add(IP(src=C,dst=S)/UDP(sport=5353,dport=53)/Raw(b"q"*10),"U query2")
add(IP(src=C,dst=S)/ICMP(type=8,id=77,seq=1),"ICMP echo"); add(IP(src=S,dst=C)/ICMP(type=0,id=77,seq=1),"ICMP echo reply")
add(IP(src=S,dst=C)/ICMP(type=0,id=78,seq=1),"ICMP reply w/o request (invalid)")
add(IP(src=C,dst=S)/ICMP(type=9),"ICMP router adv (invalid)")
q = IP(src=C,dst=S,id=1)/UDP(sport=5353,dport=53)/Raw(b"q"*10)
add(IP(src=S,dst=C)/ICMP(type=3,code=3)/bytes(q)[:28],"ICMP err related")
add(IP(src="198.51.100.1",dst=C)/ICMP(type=11,code=0)/bytes(q)[:28],"ICMP err from router related")
q2 = IP(src=C,dst=S,id=1)/UDP(sport=5454,dport=53)/Raw(b"q"*10)
add(IP(src=S,dst=C)/ICMP(type=3,code=3)/bytes(q2)[:28],"ICMP err quoting nothing (invalid)")
add(IP(src=S,dst="192.168.1.11")/ICMP(type=3,code=3)/bytes(q)[:28],"ICMP err wrong outer dst (invalid)")
e = IP(src=C,dst=S,id=1)/ICMP(type=8,id=77,seq=1)
add(IP(src="198.51.100.1",dst=C)/ICMP(type=11,code=0)/bytes(e)[:28],"ICMP err quoting echo related")
tq = IP(src=C,dst=S,id=1)/TCP(sport=10003,dport=80,flags="A",seq=1001,ack=5001)
add(IP(src=S,dst=C)/ICMP(type=3,code=1)/bytes(tq)[:28],"ICMP err quoting tcp related")
add(IP(src=C,dst=S)/GRE()/Raw(b"g"*8),"GRE new"); add(IP(src=S,dst=C)/GRE()/Raw(b"g"*8),"GRE reply")
add(IPv6(src="2001:db8:1::10",dst="2001:db8:ffff::20")/ICMPv6EchoRequest(id=9),"v6 echo"); add(IPv6(src="2001:db8:ffff::20",dst="2001:db8:1::10")/ICMPv6EchoReply(id=9),"v6 echo reply")
add(IPv6(src="2001:db8:1::10",dst="2001:db8:ffff::20")/UDP(sport=7000,dport=7001)/Raw(b"v"*10),"v6 udp")
wrpcap("kernel_ct.pcap", pkts)
json.dump(notes, open("kernel_ct.notes.json","w"))
print(len(pkts))
