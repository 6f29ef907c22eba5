fn main() {
    tally_app::run()
}
