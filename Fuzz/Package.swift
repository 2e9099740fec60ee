// swift-tools-version:6.0
// libFuzzer targets for ShmCore's parsers. Built only by scripts/fuzz.sh, in its own scratch path
// (`.build-fuzz`) with `-sanitize=fuzzer,address -parse-as-library`: libFuzzer brings its own `main`, so these
// executables define none and cannot be built by a plain `swift build` of this package.
import PackageDescription

let targets = [
    "fuzz-target", "fuzz-numbers", "fuzz-hex", "fuzz-layout", "fuzz-snapshot", "fuzz-procviews", "fuzz-condition",
    "fuzz-recording",
]

let package = Package(
    name: "shmscope-fuzz",
    dependencies: [.package(name: "shmscope", path: "..")],
    targets: [
        // libFuzzer's driver, declared for Swift.
        .target(name: "CLibFuzzer"),
        // Input → text, the property checks every target shares, and the hand-over to libFuzzer's driver.
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
    ]
        + targets.map {
            .executableTarget(
                name: $0,
                dependencies: ["FuzzSupport", .product(name: "ShmCore", package: "shmscope")])
        }
)
