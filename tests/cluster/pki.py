"""Certificates and keys for a throwaway control plane, made with the `openssl` CLI.

The API server needs a serving certificate, a client CA (the admin logs in with a client
certificate in group system:masters) and a key pair to sign service-account tokens.
ECDSA P-256 keys keep generation well under a second on a small machine.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

CERT_DAYS = "30"
# Names clients may use for the API server: loopback, and the in-cluster service name.
SERVER_SANS = ",".join(
    [
        "IP:127.0.0.1",
        "IP:10.0.0.1",
        "DNS:localhost",
        "DNS:kubernetes",
        "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc",
        "DNS:kubernetes.default.svc.cluster.local",
    ]
)
# A private config makes the output independent of the host's openssl.cnf.
OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = {sans}
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
"""


@dataclass(frozen=True)
class Pki:
    """Paths of every file the components are pointed at."""

    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    admin_cert: Path
    admin_key: Path
    sa_key: Path
    sa_pub: Path


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _new_key(path: Path) -> Path:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
    path.chmod(0o600)
    return path


def _signed_cert(pki_dir: Path, name: str, subject: str, profile: str, config: Path) -> None:
    """Issues `<name>.crt` for a fresh `<name>.key`, signed by the CA, with `profile` extensions."""
    key, csr = _new_key(pki_dir / f"{name}.key"), pki_dir / f"{name}.csr"
    _openssl("req", "-new", "-config", config, "-key", key, "-subj", subject, "-out", csr)
    _openssl(
        *("x509", "-req", "-in", csr, "-CA", pki_dir / "ca.crt", "-CAkey", pki_dir / "ca.key"),
        *("-CAcreateserial", "-days", CERT_DAYS, "-extfile", config, "-extensions", profile),
        *("-out", pki_dir / f"{name}.crt"),
    )


def _new_ca(pki_dir: Path, common_name: str) -> tuple[Path, Path]:
    """Writes the private openssl config and a self-signed CA; returns (config, CA key)."""
    pki_dir.mkdir(parents=True, exist_ok=True)
    config = pki_dir / "openssl.cnf"
    config.write_text(OPENSSL_CONFIG.format(sans=SERVER_SANS))
    ca_key = _new_key(pki_dir / "ca.key")
    _openssl(
        *("req", "-x509", "-new", "-config", config, "-key", ca_key, "-subj", f"/CN={common_name}"),
        *("-extensions", "ca", "-days", CERT_DAYS, "-out", pki_dir / "ca.crt"),
    )
    return config, ca_key


def create_pki(pki_dir: Path) -> Pki:
    """Writes a CA, the API server's serving cert, an admin client cert and SA keys."""
    config, ca_key = _new_ca(pki_dir, "kubetune-ca")
    _signed_cert(pki_dir, "apiserver", "/CN=kube-apiserver", "server", config)
    _signed_cert(pki_dir, "admin", "/O=system:masters/CN=kubetune-admin", "client", config)
    sa_key = _new_key(pki_dir / "sa.key")
    _openssl("pkey", "-in", sa_key, "-pubout", "-out", pki_dir / "sa.pub")
    return Pki(
        *(pki_dir / "ca.crt", ca_key, pki_dir / "apiserver.crt", pki_dir / "apiserver.key"),
        *(pki_dir / "admin.crt", pki_dir / "admin.key", sa_key, pki_dir / "sa.pub"),
    )


@dataclass(frozen=True)
class ServingPki:
    """A CA and the one serving cert it signed (tls.crt/tls.key, as webhook servers name them)."""

    ca_cert: Path
    cert: Path
    key: Path


def create_serving_pki(pki_dir: Path, common_name: str) -> ServingPki:
    """A CA of its own and a loopback serving cert, for a server the API server calls (a
    webhook): the caller registers `ca_cert` as the caBundle."""
    config, _ = _new_ca(pki_dir, f"{common_name}-ca")
    _signed_cert(pki_dir, "tls", f"/CN={common_name}", "server", config)
    return ServingPki(pki_dir / "ca.crt", pki_dir / "tls.crt", pki_dir / "tls.key")
