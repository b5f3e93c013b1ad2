//! Secrets of every detector family, generated from the providers'
//! published token formats, for the tests and the fuzz targets. Written
//! from the formats, not from the detectors' code, so that a detector that
//! drifts from its format is caught. Included with `#[path]` by the unit
//! tests, `tests/it` and `fuzz/`: it depends on nothing.

/// A generated secret: the rule family expected to catch it, the secret,
/// and the context words a context-anchored format needs before it ("" for
/// formats recognised by their own prefix).
#[derive(Debug, Clone)]
pub struct Sample {
    pub family: &'static str,
    pub secret: String,
    pub context: &'static str,
    /// The part that must never survive (the whole secret unless the format
    /// keeps a non-secret part, such as a URL's user and host).
    pub core: String,
}

/// A small deterministic generator to feed [`all`] (the tests print or fix
/// their seeds, so a failure replays).
pub fn lcg(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    }
}

const UPPER_DIGIT: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8] = b"0123456789abcdef";

struct G<'a>(&'a mut dyn FnMut() -> u64);

impl G<'_> {
    fn pick(&mut self, set: &[u8], n: usize) -> String {
        // Every body gets a digit and a letter, as real ones do.
        loop {
            let s: String = (0..n)
                .map(|_| set[((self.0)() % set.len() as u64) as usize] as char)
                .collect();
            let digit =
                !set.iter().any(u8::is_ascii_digit) || s.bytes().any(|c| c.is_ascii_digit());
            let letter = !set.iter().any(u8::is_ascii_alphabetic)
                || s.bytes().any(|c| c.is_ascii_alphabetic());
            if digit && letter {
                return s;
            }
        }
    }

    fn one<'s>(&mut self, of: &[&'s str]) -> &'s str {
        of[((self.0)() % of.len() as u64) as usize]
    }

    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-{}-{}-{}",
            self.pick(HEX, 8),
            self.pick(HEX, 4),
            self.pick(HEX, 4),
            self.pick(HEX, 4),
            self.pick(HEX, 12)
        )
    }
}

fn s(family: &'static str, secret: String) -> Sample {
    Sample {
        family,
        core: secret.clone(),
        secret,
        context: "",
    }
}

fn ctx(family: &'static str, context: &'static str, secret: String) -> Sample {
    Sample {
        family,
        core: secret.clone(),
        secret,
        context,
    }
}

/// One sample of every family, fresh from `rng`.
pub fn all(rng: &mut dyn FnMut() -> u64) -> Vec<Sample> {
    let mut g = G(rng);
    let mut v = tokens(&mut g);
    structured(&mut g, &mut v);
    v
}

fn b64(g: &mut G, n: usize) -> String {
    g.pick(B64, n)
}

/// The provider tokens: a prefix (or a context word) and a body.
fn tokens(g: &mut G) -> Vec<Sample> {
    vec![
        // AWS: 4-letter prefix + 16 base32 characters.
        s(
            "aws-access-key-id",
            format!(
                "{}{}",
                g.one(&["AKIA", "ASIA", "AROA", "AIDA"]),
                g.pick(UPPER_DIGIT, 16)
            ),
        ),
        ctx("aws-secret-access-key", "aws_secret_access_key", b64(g, 40)),
        ctx(
            "aws-session-token",
            "aws_session_token",
            format!("IQoJb3JpZ2luX2Vj{}", b64(g, 300)),
        ),
        s("gcp-api-key", format!("AIza{}", g.pick(B64URL, 35))),
        s(
            "google-oauth-client-secret",
            format!("GOCSPX-{}", g.pick(B64URL, 28)),
        ),
        s(
            "google-oauth-access-token",
            format!("ya29.a0{}", g.pick(B64URL, 120)),
        ),
        s(
            "github-token",
            format!(
                "{}{}",
                g.one(&["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]),
                g.pick(ALNUM, 36)
            ),
        ),
        s(
            "github-fine-grained-token",
            format!("github_pat_11{}_{}", g.pick(ALNUM, 20), g.pick(ALNUM, 59)),
        ),
        s(
            "gitlab-token",
            format!(
                "{}{}",
                g.one(&["glpat-", "gldt-", "glrt-", "glptt-"]),
                g.pick(B64URL, 20)
            ),
        ),
        s("npm-token", format!("npm_{}", g.pick(ALNUM, 36))),
        s(
            "pypi-token",
            format!("pypi-AgEIcHlwaS5vcmc{}", g.pick(B64URL, 70)),
        ),
        s(
            "docker-hub-token",
            format!("dckr_pat_{}", g.pick(B64URL, 27)),
        ),
        s("huggingface-token", format!("hf_{}", g.pick(LETTERS, 34))),
        s("heroku-api-key", format!("HRKU-AA{}", g.pick(B64URL, 58))),
        s("vault-token", format!("hvs.{}", g.pick(B64URL, 24))),
        s(
            "atlassian-api-token",
            format!("ATATT3xFfGF0{}", g.pick(B64URL, 180)),
        ),
        s("digitalocean-token", format!("dop_v1_{}", g.pick(HEX, 64))),
        s(
            "postman-api-key",
            format!("PMAK-{}-{}", g.pick(HEX, 24), g.pick(HEX, 34)),
        ),
        s("databricks-token", format!("dapi{}", g.pick(HEX, 32))),
        s("shopify-token", format!("shpat_{}", g.pick(HEX, 32))),
        s(
            "slack-token",
            format!(
                "xoxb-{}-{}-{}",
                g.pick(b"0123456789", 11),
                g.pick(b"0123456789", 13),
                g.pick(ALNUM, 24)
            ),
        ),
        s(
            "telegram-bot-token",
            format!(
                "{}:AA{}",
                100_000_000 + (g.0)() % 899_999_999,
                g.pick(B64URL, 33)
            ),
        ),
        ctx("twilio-auth-token", "twilio auth", g.pick(HEX, 32)),
        s(
            "sendgrid-api-key",
            format!("SG.{}.{}", g.pick(B64URL, 22), g.pick(B64URL, 43)),
        ),
        s("mailgun-api-key", format!("key-{}", g.pick(HEX, 32))),
        s(
            "stripe-secret-key",
            format!(
                "{}{}",
                g.one(&["sk_live_", "rk_live_", "sk_test_"]),
                g.pick(ALNUM, 24)
            ),
        ),
        s(
            "openai-anthropic-key",
            format!(
                "{}{}",
                g.one(&["sk-proj-", "sk-ant-api03-", "sk-"]),
                g.pick(B64URL, 48)
            ),
        ),
        ctx("datadog-api-key", "DD_API_KEY", g.pick(HEX, 32)),
        s("newrelic-key", format!("NRAK-{}", g.pick(UPPER_DIGIT, 27))),
        s("sentry-token", format!("sntryu_{}", g.pick(HEX, 64))),
        ctx("pagerduty-key", "pagerduty token", g.pick(ALNUM, 20)),
        s("plaid-access-token", format!("access-sandbox-{}", g.uuid())),
    ]
}

/// The formats with structure: webhook URLs, JWTs, URL credentials, FIX,
/// connection strings, PEM.
fn structured(g: &mut G, v: &mut Vec<Sample>) {
    // Webhook URLs: the path after the host's fixed prefix is the secret.
    let path = format!(
        "T{}/B{}/{}",
        g.pick(UPPER_DIGIT, 8),
        g.pick(UPPER_DIGIT, 8),
        g.pick(ALNUM, 24)
    );
    v.push(Sample {
        family: "slack-webhook",
        secret: format!("https://hooks.slack.com/services/{path}"),
        context: "",
        core: path,
    });
    let path = format!(
        "{}/{}",
        100_000_000_000_000_000 + (g.0)() % 800_000_000_000_000_000,
        g.pick(B64URL, 68)
    );
    v.push(Sample {
        family: "discord-webhook",
        secret: format!("https://discord.com/api/webhooks/{path}"),
        context: "",
        core: path,
    });
    // JWTs: header and payload are base64url JSON; alg none has no signature.
    let header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    let payload = format!("eyJzdWIiOiJ{}", g.pick(B64URL, 40));
    v.push(s(
        "jwt",
        format!("{header}.{payload}.{}", g.pick(B64URL, 43)),
    ));
    v.push(s("jwt", format!("eyJhbGciOiJub25lIn0.{payload}.")));
    // The same JWT, base64-wrapped (standard alphabet).
    let jwt = format!("{header}.{payload}.{}", g.pick(B64URL, 43));
    v.push(s("jwt", base64(jwt.as_bytes())));
    // URL credentials: the password (or token) is the core, user and host stay.
    let pw = format!("{}@:{}", g.pick(ALNUM, 6), g.pick(ALNUM, 6));
    let scheme = g.one(&[
        "postgresql",
        "redis",
        "amqp",
        "mongodb+srv",
        "mysql",
        "https",
    ]);
    v.push(Sample {
        family: "url-credentials",
        secret: format!("{scheme}://quant:{pw}@db.internal:5432/orders"),
        context: "",
        core: pw,
    });
    let token = g.pick(ALNUM, 32);
    v.push(Sample {
        family: "url-credentials",
        secret: format!("https://{token}@o4504.ingest.sentry.io/4505"),
        context: "",
        core: token,
    });
    // FIX logon: 554 Password in a `|` delimited message.
    let fixpw = g.pick(ALNUM, 12);
    v.push(Sample {
        family: "fix-password",
        secret: format!(
            "8=FIX.4.4|9=120|35=A|49=CLIENT|56=VENUE|553=trader1|554={fixpw}|98=0|108=30|10=123|"
        ),
        context: "",
        core: fixpw,
    });
    // Azure storage connection string.
    let key = format!("{}==", g.pick(B64, 86));
    v.push(Sample {
        family: "azure-connection-string",
        secret: format!("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net"),
        context: "",
        core: key,
    });
    // A private key, its body on one line with escaped newlines.
    let body = format!("MIIEpAIBAAKCAQEA{}\\n{}", b64(g, 64), b64(g, 64));
    v.push(Sample {
        family: "private-key",
        secret: format!("-----BEGIN RSA PRIVATE KEY-----\\n{body}\\n-----END RSA PRIVATE KEY-----"),
        context: "",
        core: body,
    });
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Plants `sample` in every carrier a service logs secrets in: bare text,
/// JSON under a neutral key, JSON under a sensitive key, `ENV_NAME=value`,
/// URL query, JSON-escaped JSON inside a JSON string, a Python-repr dict.
pub fn carriers(sample: &Sample) -> Vec<String> {
    let c = sample.context;
    let sp = if c.is_empty() { "" } else { " " };
    let sec = &sample.secret;
    let mut v = vec![
        format!("2026-12-07 10:01:02.345 | INFO | worker:run:88 - using {c}{sp}{sec} for upstream"),
        format!("{{\"ts\":\"2026-12-07T10:01:02Z\",\"level\":\"info\",\"event\":\"cfg\",\"value\":\"{c}{sp}{sec}\"}}"),
        format!("{{\"event\":\"login\",\"password\":\"{sec}\",\"user\":\"svc\"}}"),
        format!("env UPSTREAM_SETTING={c}{sp}{sec} started"),
        format!("{{\"msg\":\"payload {{\\\"cfg\\\":\\\"{c}{sp}{sec}\\\"}}\",\"n\":1}}"),
        format!("cfg={{'dsn': '{c}{sp}{sec}', 'retries': 3}}"),
    ];
    // In a URL query only what has no `&`, `/` or spaces of its own.
    if !sec.contains(['&', '/', ' ', '|', ';', '\\']) && c.is_empty() {
        v.push(format!(
            "GET /api/v1/orders?client=7&value={sec}&page=2 HTTP/1.1"
        ));
    }
    v
}

/// Realistic lines that hold no secret: request and trace ids, UUIDs, hex
/// digests, order ids, base64 payloads, IPs and URLs without credentials.
/// Every one must come out byte-identical.
pub const CLEAN: &[&str] = &[
    "2026-12-07 10:01:02.345 | INFO     | uvicorn.access:send:476 - 10.1.2.3:51234 - \"GET /api/v1/orders/ORD-20261207-000123 HTTP/1.1\" 200",
    "2026-12-07 10:01:02.346 | DEBUG    | app.db:query:51 - select * from fills where order_id = 'a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d' took 1.2ms",
    "{\"timestamp\":\"2026-12-07T10:01:02.347Z\",\"level\":\"INFO\",\"logger\":\"fastapi\",\"request_id\":\"7f3e9a1c2b4d4e6f8a0b1c2d3e4f5a6b\",\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"span_id\":\"00f067aa0ba902b7\",\"method\":\"POST\",\"path\":\"/api/v1/orders\",\"status\":201,\"duration_ms\":3.41}",
    "{\"event\":\"order.accepted\",\"order\":{\"id\":\"ORD-88213\",\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"0.25\",\"px\":\"97123.50\",\"client_order_id\":\"c-20261207-0001\"},\"venue\":\"XNAS\",\"latency_us\":182}",
    "127.0.0.1 - - [07/Dec/2026:10:01:02 +0000] \"GET /static/app.3f2a9c1e.js HTTP/1.1\" 200 48213 \"https://trading.example.com/dashboard?tab=positions&sort=pnl\" \"Mozilla/5.0 (X11; Linux x86_64)\"",
    "10.20.30.40 - alice [07/Dec/2026:10:01:03 +0000] \"POST /api/v2/orders HTTP/1.1\" 201 512 \"-\" \"python-requests/2.32.3\" rt=0.004",
    "{\"level\":\"info\",\"msg\":\"artifact stored\",\"sha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\",\"git_sha\":\"e5ff6af1c2d3b4a5968776655443322110ffeedd\",\"size\":10824720}",
    "{\"event\":\"snapshot\",\"payload\":\"SGVsbG8sIHRoaXMgaXMgYSBiYXNlNjQgcGF5bG9hZCB3aXRob3V0IGFueSBzZWNyZXQgaW4gaXQu\",\"encoding\":\"base64\"}",
    "connected to https://api.exchange.example.com:8443/v3/ws and wss://stream.example.com/ws?streams=btcusdt@trade",
    "fetching https://registry.npmjs.org/@types/node and git@github.com:org/repo.git at ssh://git@github.com/org/repo",
    "mail from alice@example.com to ops@trading.example.com relayed via smtp://smtp.example.com:587",
    "user passenger boarded; bypass mode off; compass heading 270; task-manager disk-usage 41%",
    "{\"private\":false,\"fork\":false,\"full_name\":\"org/repo\",\"visibility\":\"public\",\"default_branch\":\"main\"}",
    "8=FIX.4.4|9=178|35=D|49=CLIENT|56=VENUE|34=215|52=20261207-10:01:02.345|11=ORD-1|55=AAPL|54=1|38=100|40=2|44=189.25|10=128|",
    "uuid=3f2b8c1a-9d4e-4f6a-b1c2-d3e4f5a6b7c8 parent=0f1e2d3c-4b5a-4968-8776-655443322110 hex=deadbeefcafebabe0123456789abcdef",
    "GET /api/v1/keys/rotation-status?page=3&per_page=50 200 12ms ip=192.168.10.24 ua=\"curl/8.5.0\"",
    "scheduler: job sk-learn-retrain finished; next run at 2026-12-08T00:00:00Z (id job-77f3)",
];
