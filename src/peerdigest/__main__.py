from peerdigest.cli import main

main()
