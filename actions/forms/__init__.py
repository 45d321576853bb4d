"""In-chat forms: 个人信息完善 (profile), 毕业去向登记 (destination), 户档信息登记 (archive)."""
