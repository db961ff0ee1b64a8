#!/usr/bin/env python3
"""Slow consumers for the soak test: WebSocket clients that subscribe and then never read.

Every PERIOD seconds it opens COUNT raw TCP connections to the gateway, upgrades them with an HS256
token (minted here with $PORTCULLIS_BENCH_SECRET), subscribes each to CHANNEL and then stops
reading, with a small receive buffer, so the gateway's outbound buffer for them fills up and its
slow-consumer cut-off (4009) has to end them: every round each asks for whole history pages it never reads. A connection is dropped by this side after HOLD
seconds at the latest, so this process holds a bounded number of sockets.

    slow_consumers.py HOST PORT CHANNEL COUNT PERIOD HOLD DURATION

Standard library only. Prints one line per round: opened, upgraded, refused.
"""
import base64, hashlib, hmac, json, os, socket, struct, sys, time

CHANNEL = "bench"
HISTORY_REQUESTS = 10


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret: str, sub: str) -> str:
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": sub, "iat": now, "exp": now + 3600, "channels": {CHANNEL: "r"}}).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def frame(text: str) -> bytes:
    """One masked client text frame."""
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    length = len(payload)
    header = bytes([0x81]) + (bytes([0x80 | length]) if length < 126 else bytes([0x80 | 126]) + struct.pack(">H", length))
    return header + mask + masked


def open_one(host: str, port: int, channel: str, sub: str, secret: str):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window stays small
    s.settimeout(5)
    s.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws?token={token(secret, sub)} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = s.recv(1)  # byte by byte: nothing after the headers is read
        if not chunk:
            break
        answer += chunk
    if not answer.startswith(b"HTTP/1.1 101"):
        s.close()
        return answer.split(b"\r\n", 1)[0].decode(errors="replace") or "no answer"
    s.sendall(frame(json.dumps({"type": "subscribe", "channel": channel})))
    s.setblocking(False)
    return s  # never read again


def ask_history(s, channel: str) -> bool:
    """Asks for whole history pages it will never read; False once the connection is gone."""
    request = frame(json.dumps({"type": "history", "channel": channel, "limit": 1000}))
    try:
        for _ in range(HISTORY_REQUESTS):
            s.send(request)
    except BlockingIOError:
        pass  # the gateway stopped reading us: its outbound buffer is full, as intended
    except OSError:
        return False
    return True


def main() -> None:
    global CHANNEL
    host, port, channel = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    CHANNEL = channel
    count, period, hold, duration = int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
    secret = os.environ["PORTCULLIS_BENCH_SECRET"]
    held = []  # (deadline, socket)
    end = time.time() + duration
    round_no = 0
    while time.time() < end:
        round_no += 1
        upgraded = refused = 0
        why = ""
        for i in range(count):
            try:
                s = open_one(host, port, channel, f"slow-{round_no}-{i}", secret)
            except OSError as e:
                s = f"{type(e).__name__}: {e}"
            if isinstance(s, str):
                refused += 1
                why = s
            else:
                upgraded += 1
                held.append((time.time() + hold, s))
        now = time.time()
        alive = []
        for deadline, s in held:
            if deadline > now and ask_history(s, channel):
                alive.append((deadline, s))
            else:
                s.close()
        held = alive
        print(f"slow consumers: round {round_no}: upgraded {upgraded}, refused {refused}, held {len(held)}" + (f" (last refusal: {why})" if refused else ""), flush=True)
        time.sleep(period)
    for _, s in held:
        s.close()


if __name__ == "__main__":
    main()
