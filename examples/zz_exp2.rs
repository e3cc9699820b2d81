fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let r: Result<serde_json::Value, _> = serde_saphyr::from_str(&text);
    match r {
        Ok(v) => println!("OK {v}"),
        Err(e) => println!("ERR {}", e),
    }
}
