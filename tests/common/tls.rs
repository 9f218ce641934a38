//! A test PKI for the TLS tests: a server CA with a certificate for `localhost` and
//! 127.0.0.1, and a client CA with one client certificate, written to files as a user would
//! give them; and reqwest clients that trust the server CA or not, with a client certificate
//! or not.

use std::path::PathBuf;

use kafka_gen::listen::TlsConfig;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

/// The files: `ca.crt`, `server.crt`, `server.key`, `client-ca.crt`, `client.crt`,
/// `client.key` (and `stranger.crt`/`.key`, a client certificate from another CA).
pub struct Pki {
    pub dir: tempfile::TempDir,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    (params.distinguished_name).push(rcgen::DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A certificate for `localhost` and 127.0.0.1 signed by `issuer`, and its key, in PEM.
fn leaf(issuer: &CertifiedIssuer<'static, KeyPair>, name: &str) -> (String, String) {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let mut params = CertificateParams::new(names).unwrap();
    (params.distinguished_name).push(rcgen::DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

impl Pki {
    pub fn new() -> Self {
        let pki = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        let server_ca = ca("kafka-gen test server CA");
        let client_ca = ca("kafka-gen test client CA");
        let (server, server_key) = leaf(&server_ca, "kafka-gen test server");
        let (client, client_key) = leaf(&client_ca, "kafka-gen test client");
        let (stranger, stranger_key) = leaf(&ca("elsewhere"), "a stranger");
        for (name, text) in [
            ("ca.crt", server_ca.pem()),
            ("server.crt", server),
            ("server.key", server_key),
            ("client-ca.crt", client_ca.pem()),
            ("client.crt", client),
            ("client.key", client_key),
            ("stranger.crt", stranger),
            ("stranger.key", stranger_key),
        ] {
            std::fs::write(pki.path(name), text).unwrap();
        }
        pki
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    /// `[tls]` serving `server.crt`, requiring client certificates when `mutual`.
    pub fn tls(&self, mutual: bool) -> TlsConfig {
        TlsConfig {
            cert_path: Some(self.path("server.crt")),
            key_path: Some(self.path("server.key")),
            client_ca_path: mutual.then(|| self.path("client-ca.crt")),
        }
    }

    /// A client trusting the server CA only when `trust`, presenting `identity`'s
    /// certificate (`client` or `stranger`) when given.
    pub fn client(&self, trust: bool, identity: Option<&str>) -> reqwest::Client {
        let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30));
        if trust {
            let ca = reqwest::Certificate::from_pem(&self.read("ca.crt")).unwrap();
            builder = builder
                .add_root_certificate(ca)
                .tls_built_in_root_certs(false);
        }
        if let Some(name) = identity {
            let cert = self.read(&format!("{name}.crt"));
            let key = self.read(&format!("{name}.key"));
            builder = builder.identity(reqwest::Identity::from_pkcs8_pem(&cert, &key).unwrap());
        }
        builder.build().unwrap()
    }
}
