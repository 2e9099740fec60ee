// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "shmscope",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "shmscope", targets: ["shmscope"]),
        .library(name: "ShmCore", targets: ["ShmCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // C: union semun, fixed-argument wrappers for variadic calls, semtimedop, a SIGBUS-safe copy, the seam's flag.
        .target(name: "CShmShims"),
        // zlib (the system's), for recordings only.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // Keys, segments, semaphores, catalog, hex formatting. No ncurses, no CLI.
        .target(
            name: "ShmCore",
            dependencies: ["CShmShims", "CZlib", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // C: ncursesw with the wide-char API switched on, and getters for the macros Swift cannot import.
        .target(name: "CNcurses", linkerSettings: [.linkedLibrary("ncursesw")]),
        // App state, actions, reducer, widgets drawing into a ScreenBuffer. No curses import.
        .target(name: "ShmTUI", dependencies: ["ShmCore"]),
        // The only code that calls ncurses: paints a ScreenBuffer, reads keys, mouse and resize.
        .target(name: "ShmCurses", dependencies: ["ShmCore", "ShmTUI", "CNcurses"]),
        // Micro-benchmarks run by scripts/bench.sh side by side with the tools users would otherwise use.
        .executableTarget(name: "shmbench", dependencies: ["ShmCore"]),
        .executableTarget(
            name: "shmscope",
            dependencies: [
                "CShmShims",
                "ShmCore",
                "ShmTUI",
                "ShmCurses",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Spawning peers (the Qt 5 program, Python, the shmscope binary) with a clean signal mask; unique names.
        .target(name: "ShmTestSupport", dependencies: ["ShmCore", "CShmShims"], path: "Tests/ShmTestSupport"),
        .testTarget(name: "ShmCoreTests", dependencies: ["ShmCore", "ShmTestSupport"], path: "Tests/ShmCoreTests"),
        .testTarget(
            name: "ShmTUITests", dependencies: ["ShmTUI", "ShmCore", "ShmTestSupport"], path: "Tests/ShmTUITests"),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["ShmCore", "ShmTestSupport"],
            path: "Tests/EndToEndTests"
        ),
    ]
)
