"""HTTPS for the emulator: a certificate given on the command line, or a self-signed one made at start-up.

``--https`` makes a fresh key and self-signed certificate (valid two days, for ``127.0.0.1``, ``::1``,
``localhost`` and the bind address) with the ``openssl`` command, into ``DATA/tls/``. Being self-signed,
the certificate is its own CA: clients trust it only when given that file (``ca_file`` in the ready line),
which is what tests of TLS verification need. ``--tls-cert``/``--tls-key`` serve a certificate of your own.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import ssl
import subprocess
from pathlib import Path

from .errors import TLSSetupError

CERT_NAME, KEY_NAME = "emulator-cert.pem", "emulator-key.pem"


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(str(cert_file), str(key_file))
    except (OSError, ssl.SSLError) as error:
        raise TLSSetupError(f"cannot load the certificate {cert_file} and key {key_file}: {error}") from None
    return context


def make_self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    """A new EC key and a self-signed certificate (CA:TRUE, so it can be its own trust anchor)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise TLSSetupError("--https needs the openssl command to make a certificate (apt-get install openssl), "
                            "or give one with --tls-cert and --tls-key")
    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = directory / CERT_NAME, directory / KEY_NAME
    names = ["IP:127.0.0.1", "IP:::1", "DNS:localhost"]
    bound = host.strip("[]")
    if bound not in ("", "0.0.0.0", "::", "127.0.0.1", "::1", "localhost"):
        try:
            names.append(f"IP:{ipaddress.ip_address(bound)}")
        except ValueError:
            names.append(f"DNS:{bound}")
    command = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
               "-keyout", str(key_file), "-out", str(cert_file), "-days", "2",
               "-subj", "/CN=cocalc-magics emulator (self-signed)",
               "-addext", f"subjectAltName={','.join(names)}",
               "-addext", "basicConstraints=critical,CA:TRUE",
               "-addext", "keyUsage=critical,digitalSignature,keyCertSign"]
    old_umask = os.umask(0o077)  # the key is readable by its owner only
    try:
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=30)
    finally:
        os.umask(old_umask)
    if done.returncode != 0:
        raise TLSSetupError(f"openssl could not make a certificate: {done.stderr.strip()[-300:]}")
    return cert_file, key_file
