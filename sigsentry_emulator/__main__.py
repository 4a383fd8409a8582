def main() -> None:
    raise SystemExit("not yet implemented")


if __name__ == "__main__":
    main()
