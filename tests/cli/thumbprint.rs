//! `keycred thumbprint`: every form, one line per certificate.

use predicates::str::contains;

use crate::common::*;

#[test]
fn each_form_prints_one_line_per_certificate() {
    let expected = [
        ("hex", "572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969"),
        ("base64", "VyID1rpdPCiyWx3MPzu/G1T2mWk="),
        ("x5t", "VyID1rpdPCiyWx3MPzu_G1T2mWk"),
        (
            "sha256-hex",
            "3C8668ACCF669FB7926E71D0C9CF37BFF67D82F1D4A13D59AEEC9219814D5371",
        ),
        ("x5t-s256", "PIZorM9mn7eSbnHQyc83v_Z9gvHUoT1ZruySGYFNU3E"),
    ];
    for (form, value) in expected {
        keycred()
            .args(["thumbprint", "--form", form])
            .arg(fixture("openssl-rsa.cer"))
            .assert()
            .success()
            .stdout(format!("{value}\n"));
    }
}

#[test]
fn several_certificates_are_labelled_with_their_file() {
    let out = keycred()
        .args(["thumbprint", "--form", "hex"])
        .arg(fixture("openssl-rsa.pem"))
        .arg(fixture("bundle.pem"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969  "));
    assert!(lines[0].ends_with("openssl-rsa.pem"));
    assert!(lines[2].ends_with("bundle.pem"));
}

#[test]
fn without_a_form_every_form_is_labelled() {
    keycred()
        .arg("thumbprint")
        .arg(fixture("openssl-rsa.pem"))
        .assert()
        .success()
        .stdout(contains(
            "sha1          572203D6BA5D3C28B25B1DCC3F3BBF1B54F69969",
        ))
        .stdout(contains("sha1Base64    VyID1rpdPCiyWx3MPzu/G1T2mWk="))
        .stdout(contains("x5t           VyID1rpdPCiyWx3MPzu_G1T2mWk"))
        .stdout(contains(
            "x5t#S256      PIZorM9mn7eSbnHQyc83v_Z9gvHUoT1ZruySGYFNU3E",
        ));
}

#[test]
fn json_output_and_bad_input() {
    let out = keycred()
        .args(["thumbprint", "--json", "--form", "x5t"])
        .arg(fixture("openssl-rsa.pem"))
        .output()
        .unwrap();
    assert_eq!(json(&out)[0]["x5t"], "VyID1rpdPCiyWx3MPzu_G1T2mWk");

    let out = keycred()
        .args(["thumbprint", "--form", "md5"])
        .arg(fixture("openssl-rsa.pem"))
        .output()
        .unwrap();
    assert_fails(&out, 2, "invalid value 'md5'");
    let out = keycred()
        .args(["thumbprint"])
        .arg(fixture("openssl-rsa.key"))
        .output()
        .unwrap();
    assert_fails(&out, 1, "no CERTIFICATE block");
}
