//! A private `nats-server` with JetStream, for the demo and for tests: a free loopback
//! port, a temporary store directory, stopped (and the directory removed) on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::PipelineError;

/// A running `nats-server` owned by this process.
#[derive(Debug)]
pub struct LocalNats {
    child: Child,
    port: u16,
    store: tempfile::TempDir,
    log: PathBuf,
}

impl LocalNats {
    /// Starts `nats-server -js` on a free loopback port with a fresh store directory and
    /// waits (up to 10 s) until it accepts connections.
    pub fn start() -> Result<LocalNats, PipelineError> {
        LocalNats::launch(None)
    }

    /// As [`LocalNats::start`], with the server taking messages of at most `max_payload`
    /// bytes (headers included; the server's own default is 1 MiB).
    pub fn start_with_max_payload(max_payload: usize) -> Result<LocalNats, PipelineError> {
        LocalNats::launch(Some(format!("max_payload: {max_payload}\n")))
    }

    /// Starts the server with `config` as its configuration file, when given.
    fn launch(config: Option<String>) -> Result<LocalNats, PipelineError> {
        let binary = find_binary().ok_or(PipelineError::NatsServerMissing)?;
        let store = tempfile::Builder::new()
            .prefix("creditstream-nats-")
            .tempdir()
            .map_err(|e| PipelineError::Io("creating the NATS store directory".into(), e))?;
        let port = free_port()?;
        let log = store.path().join("nats-server.log");
        let mut command = Command::new(&binary);
        if let Some(config) = config {
            let path = store.path().join("nats-server.conf");
            std::fs::write(&path, config)
                .map_err(|e| PipelineError::Io(format!("writing {}", path.display()), e))?;
            command.arg("-c").arg(path);
        }
        let child = command
            .arg("-js")
            .args(["-a", "127.0.0.1"])
            .args(["-p", &port.to_string()])
            .arg("-sd")
            .arg(store.path().join("jetstream"))
            .arg("-l")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| PipelineError::Io(format!("starting {}", binary.display()), e))?;
        let mut server = LocalNats {
            child,
            port,
            store,
            log,
        };
        server.wait_ready(Duration::from_secs(10))?;
        Ok(server)
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's process id (to read what it costs, say).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's store directory.
    pub fn store_dir(&self) -> &Path {
        self.store.path()
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), PipelineError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                return Err(PipelineError::NatsServerFailed(format!(
                    "exited with {status}: {log}"
                )));
            }
            // The log line is written once the client listener is up and JetStream started.
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.contains("Server is ready")
                && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(PipelineError::NatsServerFailed(format!(
                    "not ready after {timeout:?}: {log}"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for LocalNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, PipelineError> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| PipelineError::Io("finding a free port".into(), e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| PipelineError::Io("finding a free port".into(), e))
}

/// `nats-server` on the PATH or in the usual Debian places.
fn find_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NATS_SERVER_BIN") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([
            "/usr/bin".into(),
            "/usr/sbin".into(),
            "/usr/local/bin".into(),
        ])
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file())
}
