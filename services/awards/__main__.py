from services.awards.entrypoints.main import main

main()
