/// The release this build is. Kept in step with CHANGELOG.md.
let shmscopeVersion = "0.1.0-dev"
