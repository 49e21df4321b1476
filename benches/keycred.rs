//! Library benchmarks: key generation, certificate build, PFX export and fragment rendering, each on its own
//! so the cost of everything but key generation can be read separately (target: under 5 ms).
//! Run with `cargo bench --bench keycred`.

use keycred::credential::{
    build_certificate, CertRequest, CertificateInfo, KeySize, PrivateKey, SignatureHash, Subject,
    ValidityEnd,
};
use keycred::export::{self, PfxProfile};
use keycred::manifest::{KeyCredentialsDocument, ManifestFormat};
use keycred::secret::Password;

fn main() {
    divan::main();
}

fn request() -> CertRequest {
    CertRequest::new(
        Subject::parse("CN=Bench Daemon,O=Contoso").unwrap(),
        KeySize::Rsa2048,
        SignatureHash::Sha256,
        ValidityEnd::Days(365),
        time::OffsetDateTime::now_utc(),
        [0x42; 16],
    )
    .unwrap()
}

#[divan::bench(sample_count = 40)]
fn key_generation_rsa2048() -> PrivateKey {
    PrivateKey::generate(KeySize::Rsa2048).unwrap()
}

#[divan::bench]
fn certificate_build(bencher: divan::Bencher) {
    let key = PrivateKey::generate(KeySize::Rsa2048).unwrap();
    let request = request();
    bencher.bench_local(|| build_certificate(&request, &key).unwrap());
}

#[divan::bench(args = [PfxProfile::Modern, PfxProfile::Legacy])]
fn pfx_export(bencher: divan::Bencher, profile: PfxProfile) {
    let key = PrivateKey::generate(KeySize::Rsa2048).unwrap();
    let cert = CertificateInfo::from_der(&build_certificate(&request(), &key).unwrap()).unwrap();
    let password = Password::new("bench-password".into());
    bencher.bench_local(|| export::pfx(&key, &cert, &password, profile).unwrap());
}

#[divan::bench]
fn fragment_rendering(bencher: divan::Bencher) {
    let key = PrivateKey::generate(KeySize::Rsa2048).unwrap();
    let cert = CertificateInfo::from_der(&build_certificate(&request(), &key).unwrap()).unwrap();
    bencher.bench_local(|| {
        KeyCredentialsDocument::new(&[(&cert, uuid::Uuid::nil())], ManifestFormat::Graph)
            .render(false)
    });
}

#[divan::bench]
fn everything_but_key_generation(bencher: divan::Bencher) {
    let key = PrivateKey::generate(KeySize::Rsa2048).unwrap();
    let password = Password::new("bench-password".into());
    let request = request();
    bencher.bench_local(|| {
        let cert = CertificateInfo::from_der(&build_certificate(&request, &key).unwrap()).unwrap();
        let pfx = export::pfx(&key, &cert, &password, PfxProfile::Modern).unwrap();
        let pem = export::certificate_pem(cert.der());
        let key_pem = export::private_key_pem(&key);
        let fragment =
            KeyCredentialsDocument::new(&[(&cert, uuid::Uuid::nil())], ManifestFormat::Graph)
                .render(false);
        (pfx, pem, key_pem, fragment)
    });
}

/// A batch plan of 20,000 rows, checked (target: linear in the rows, well under a second; it took 23.6 s when every
/// row was compared with every earlier one).
#[divan::bench(sample_count = 5)]
fn batch_plan_check_20000_rows(bencher: divan::Bencher) {
    let mut plan = String::from("[defaults]\nout = \"certs\"\n");
    for i in 0..20_000 {
        plan.push_str(&format!(
            "[[app]]\nname = \"app-{i}\"\nsubject = \"CN=App {i}\"\nmanifest = \"manifests/app-{i}.json\"\n"
        ));
    }
    bencher.bench_local(|| {
        keycred::batch::parse_plan(&plan, "plan.toml", std::path::Path::new("/plans"))
            .unwrap()
            .len()
    });
}
