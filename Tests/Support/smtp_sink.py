"""A real SMTP server for the notification tests (aiosmtpd): every message it accepts is
written to OUTDIR as an .eml file. With --stall N the first N deliveries hang at RCPT for
a minute (and touch OUTDIR/stalled), so a test can kill the sender mid-delivery. With
--tls CERT KEY it offers STARTTLS and requires it.

    python3 smtp_sink.py PORT OUTDIR [--stall N] [--tls CERT KEY]
"""
import asyncio
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, outdir, stall):
        self.outdir = outdir
        self.stall = stall

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.stall > 0:
            self.stall -= 1
            open(os.path.join(self.outdir, "stalled"), "w").close()
            await asyncio.sleep(60)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.outdir, f"msg-{time.time_ns()}.eml")
        with open(name + ".part", "wb") as out:
            out.write(envelope.original_content or envelope.content)
        os.rename(name + ".part", name)
        return "250 Message accepted for delivery"


def main():
    port, outdir = int(sys.argv[1]), sys.argv[2]
    args = sys.argv[3:]
    stall = int(args[args.index("--stall") + 1]) if "--stall" in args else 0
    options = {}
    if "--tls" in args:
        cert, key = args[args.index("--tls") + 1], args[args.index("--tls") + 2]
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options = {"tls_context": context, "require_starttls": True}
    controller = Controller(Sink(outdir, stall), hostname="127.0.0.1", port=port, **options)
    controller.start()
    open(os.path.join(outdir, "ready"), "w").close()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
