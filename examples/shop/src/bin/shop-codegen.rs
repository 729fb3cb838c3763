tidings::codegen_main!(shop);
