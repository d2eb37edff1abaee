"""audioguide: turn a written patient-information guide into an accessible French audio guide."""

__version__ = "0.1.0"


def versions(*dists: str) -> list[str]:
    """"name=version" for each installed distribution, "name=-" for a missing one: for the keys of what a
    library's upgrade can change (clips, the early stop)."""
    from importlib import metadata

    found = []
    for dist in dists:
        try:
            found.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            found.append(f"{dist}=-")
    return found
