# UDP GSO (UDP_SEGMENT) from inside an endpoint, as QUIC stacks send:
#   python3 udp-gso.py send IP PORT N   N sends of 8 x 1000-byte datagrams; prints "gso",
#                                       or "plain" when the kernel refuses GSO (EIO: no
#                                       checksum offload) and they went one by one
#   python3 udp-gso.py recv PORT        counts 1000-byte datagrams until 1.5 s of silence
#                                       after the first (which it awaits up to 10 s)
import errno
import socket
import sys

SOL_UDP, UDP_SEGMENT, SIZE = 17, 103, 1000

if sys.argv[1] == 'send':
    dst, n = (sys.argv[2], int(sys.argv[3])), int(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(SOL_UDP, UDP_SEGMENT, SIZE)
    try:
        for _ in range(n):
            s.sendto(b'x' * SIZE * 8, dst)
        print('gso')
    except OSError as e:
        if e.errno != errno.EIO:
            raise
        s.setsockopt(SOL_UDP, UDP_SEGMENT, 0)
        for _ in range(n * 8):
            s.sendto(b'x' * SIZE, dst)
        print('plain')
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('0.0.0.0', int(sys.argv[2])))
    s.settimeout(10)
    count = 0
    try:
        while True:
            count += len(s.recv(65535)) == SIZE
            s.settimeout(1.5)
    except socket.timeout:
        pass
    print(count)
