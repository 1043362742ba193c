"""What each role may do with fee items, standards, vacancy discounts and meters
(see wuye.accounts.roles).

Meters (`/fees/meters/`): finance and supervisors register, replace and retire meters and
set the units a shared meter covers (each decides what owners are billed); engineering
takes the readings, the final and initial ones of a replacement included, and hands them
over; everyone else reads."""

_READ = [
    "fees.view_feeitem",
    "fees.view_feestandard",
    "fees.view_vacancydiscount",
    "fees.view_meter",
    "fees.view_meterreading",
    "fees.view_sharedapportionment",
    "fees.view_apportionmentline",
]
_READINGS = ["fees.add_meterreading"]
_VACANCY_APPLY = ["fees.add_vacancydiscount"]
_VACANCY_INSPECT = ["fees.inspect_vacancydiscount"]
_FINANCE = [
    "fees.add_feeitem",
    "fees.change_feeitem",
    "fees.add_feestandard",
    "fees.change_feestandard",
    "fees.publish_feestandard",
    "fees.add_meter",
    "fees.change_meter",
    *_READINGS,
    "fees.add_sharedapportionment",
]

ROLE_PERMISSIONS = {
    "cashier": _READ,
    "collector": _READ,
    "customer_service": [*_READ, *_VACANCY_APPLY, *_VACANCY_INSPECT],
    # Engineering reads the meters and inspects vacant units on site.
    "engineering": [*_READ, *_READINGS, *_VACANCY_INSPECT],
    "security": _READ,
    "finance": [*_READ, *_FINANCE],
    "supervisor": [
        *_READ,
        *_FINANCE,
        *_VACANCY_APPLY,
        *_VACANCY_INSPECT,
        "fees.approve_feestandard",
        "fees.approve_vacancydiscount",
        "fees.change_vacancydiscount",
        "fees.approve_meterreading",
        "fees.approve_sharedapportionment",
    ],
    "auditor": _READ,
}
