from services.notify.entrypoints.main import main

main()
