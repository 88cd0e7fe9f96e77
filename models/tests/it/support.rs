//! Test data: the IBM accounts-receivable sample and seeded synthetic tables.

use ndarray::Array2;

/// A small seeded generator (SplitMix64) so tests need no random-number crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Rows drawn from a known logistic model: features N(0, 1) times `scale`, label late with
/// probability σ(x·beta + intercept). Returns the features, labels and true probabilities.
pub fn logistic_table(
    rows: usize,
    beta: &[f64],
    intercept: f64,
    seed: u64,
) -> (Array2<f64>, Vec<bool>, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let d = beta.len();
    let mut x = Array2::zeros((rows, d));
    let mut labels = Vec::with_capacity(rows);
    let mut truth = Vec::with_capacity(rows);
    for i in 0..rows {
        let mut z = intercept;
        for j in 0..d {
            let v = rng.normal() * (1.0 + j as f64) + j as f64;
            x[[i, j]] = v;
            z += beta[j] * (v - j as f64) / (1.0 + j as f64);
        }
        let p = models::logistic::sigmoid(z);
        truth.push(p);
        labels.push(rng.uniform() < p);
    }
    (x, labels, truth)
}

/// The IBM sample's rows as (amount, disputed, electronic, country 406/770/818/897) and
/// the label DaysLate > 0, as `reference/ibm_ar_logistic.py` builds them.
pub fn ibm_ar() -> (Array2<f64>, Vec<bool>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/ibm-ar/WA_Fn-UseC_-Accounts-Receivable.csv"
    );
    let text = std::fs::read_to_string(path).expect("IBM accounts-receivable sample");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let (country, amount, disputed, paperless, late) = (
        col("countryCode"),
        col("InvoiceAmount"),
        col("Disputed"),
        col("PaperlessBill"),
        col("DaysLate"),
    );
    let mut values = Vec::new();
    let mut labels = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.trim_end().split(',').collect();
        values.push(f[amount].parse::<f64>().expect("amount"));
        values.push(f64::from(u8::from(f[disputed] == "Yes")));
        values.push(f64::from(u8::from(f[paperless] == "Electronic")));
        for code in ["406", "770", "818", "897"] {
            values.push(f64::from(u8::from(f[country] == code)));
        }
        labels.push(f[late].parse::<i64>().expect("days late") > 0);
    }
    let x = Array2::from_shape_vec((labels.len(), 7), values).expect("shape");
    (x, labels)
}

/// Compares generated text with a committed golden file (a path from the repository root);
/// `UPDATE_GOLDEN=1` rewrites the file instead.
pub fn golden(path: &str, generated: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("directory")).expect("golden directory");
        std::fs::write(&path, generated).expect("write golden file");
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1", path.display()));
    assert!(
        committed == generated,
        "{} differs from what the test generates; review and rerun with UPDATE_GOLDEN=1",
        path.display()
    );
}
