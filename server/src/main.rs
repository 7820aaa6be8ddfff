fn main() {
    keylint::cli::main()
}
