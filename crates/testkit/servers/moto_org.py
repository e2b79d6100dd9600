"""Seeds an AWS Organization in moto for drydock's organisation-scale tests and benches.

Usage: moto_org.py URL ACCOUNTS REGION[,REGION...] VMS_PER_REGION AMI_EVEN AMI_ODD

Creates the organisation (the management account is moto's default 123456789012), two OUs
under the root (Prod, Dev), ACCOUNTS member accounts split between them (`acct-NN`, tagged
`team=web`; the third is also tagged `drydock=skip`), and in every member account, through
STS AssumeRole of OrganizationAccountAccessRole (moto keeps each account's resources
apart), VMS_PER_REGION instances in each region, launched from AMI_EVEN in even-numbered
accounts and AMI_ODD in odd ones (start moto with a small MOTO_AMIS_PATH: every new
account's backend loads the AMI list once per region). Prints
a JSON object: {"accounts": [{"id", "name", "ou", "skip", "instances": [ids]}]}.
"""

import json
import sys

import boto3


def client(service, url, region="us-east-1", creds=None):
    kwargs = dict(
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    if creds:
        kwargs.update(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    return boto3.client(service, **kwargs)


def main():
    url, count, regions = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    per_region, amis = int(sys.argv[4]), (sys.argv[5], sys.argv[6])
    org = client("organizations", url)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ous = {
        name: org.create_organizational_unit(ParentId=root, Name=name)["OrganizationalUnit"]["Id"]
        for name in ("Prod", "Dev")
    }
    sts = client("sts", url)
    out = []
    for n in range(count):
        name = f"acct-{n:02d}"
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)
        account = status["CreateAccountStatus"]["AccountId"]
        ou = "Prod" if n % 2 == 0 else "Dev"
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ous[ou])
        skip = n == 2
        tags = [{"Key": "team", "Value": "web"}]
        if skip:
            tags.append({"Key": "drydock", "Value": "skip"})
        org.tag_resource(ResourceId=account, Tags=tags)
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
            RoleSessionName="seed",
        )["Credentials"]
        instances = []
        for region in regions:
            ec2 = client("ec2", url, region, creds)
            ami = amis[n % 2]
            run = ec2.run_instances(
                ImageId=ami,
                MinCount=per_region,
                MaxCount=per_region,
                InstanceType="t3.micro",
                TagSpecifications=[
                    {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": f"{name}-vm"}]}
                ],
            )
            instances += [i["InstanceId"] for i in run["Instances"]]
        out.append({"id": account, "name": name, "ou": ou, "skip": skip, "instances": instances})
    json.dump({"accounts": out}, sys.stdout)


if __name__ == "__main__":
    main()
