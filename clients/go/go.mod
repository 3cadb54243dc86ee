module github.com/wxauth/wxauth/clients/go

go 1.19
